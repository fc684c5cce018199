from reviewhoard.hoard.cli import main

main()
