"""The hooks a nimabench plugin can implement.

Every registration hook receives a ``register`` callback and calls it once per object it contributes;
the plugin manager records which plugin registered what, so that a clash can name both plugins.
Heavy imports (tensorflow, torch, timm) belong inside the objects' methods, never at plugin import:
``nimabench list`` has to answer in about a second.
"""

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("nimabench")
hookimpl = HookimplMarker("nimabench")


@hookspec
def register_backbones(register):
    """Register backbones: ``register(backbone)`` with a :class:`nimabench.backbone.Backbone`.

    A backbone has a unique name (``timm:resnet50``, ``keras:mobilenet``) and may claim bare aliases
    (``mobilenet``); see :mod:`nimabench.backbone` for how a bare name claimed by several plugins resolves.
    """


@hookspec(firstresult=True)
def resolve_backbone(name):
    """Return a :class:`nimabench.backbone.Backbone` for a ``name`` no plugin registered, or None.

    For open-ended families: the timm plugin resolves ``timm:<any timm model>`` this way, while its curated
    list is what ``nimabench list`` shows. The first plugin that returns a backbone wins.
    """


@hookspec
def register_losses(register):
    """Register losses and loss kernels.

    ``register(loss)`` adds a :class:`nimabench.loss.Loss` (a name and its NumPy reference).
    ``register.kernel(loss_name, framework, factory)`` adds the kernel of an existing or future loss for
    one framework; ``factory()`` returns the framework function ``(pred, target, score_values) -> per-sample``.
    """


@hookspec
def register_schedules(register):
    """Register fine-tuning schedules: ``register(schedule)`` with a :class:`nimabench.schedule.Schedule`."""


@hookspec
def register_datasets(register):
    """Register datasets: ``register(dataset_class)`` with a subclass of :class:`nimabench.dataset.Dataset`."""


@hookspec
def register_trainers(register):
    """Register trainers: ``register(trainer)`` with a :class:`nimabench.trainer.Trainer`, one per framework."""


@hookspec
def register_commands(cli):
    """Add click commands or groups to the ``nimabench`` CLI: ``cli.add_command(...)`` or ``@cli.command()``."""
