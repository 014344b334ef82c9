from nimabench.cli import main

main()
