import sys

from noticewatch.cli import main

sys.exit(main())
