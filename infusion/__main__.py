from infusion.cli import main

main()
