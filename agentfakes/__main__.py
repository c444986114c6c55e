from agentfakes.cli import main

raise SystemExit(main())
