from strands_deploy.cli.main import main

main()
