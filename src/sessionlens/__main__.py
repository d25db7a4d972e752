from sessionlens.cli.main import main

raise SystemExit(main())
