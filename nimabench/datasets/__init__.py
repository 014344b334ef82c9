"""Built-in dataset plugins, one module per dataset (listed in nimabench.plugins.DEFAULT_PLUGINS)."""
