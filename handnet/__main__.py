import sys

from handnet.cli import main

sys.exit(main())
