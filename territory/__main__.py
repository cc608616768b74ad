from territory.cli import main

main(prog_name="territory")
