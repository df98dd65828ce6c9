from mylearning.cli import main

raise SystemExit(main())
