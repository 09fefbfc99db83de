import sys

from session_rater.cli.main import main

sys.exit(main())
