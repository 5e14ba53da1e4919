"""``python -m mediation.docs --check | --write``: see :mod:`mediation.docs.pages`."""

import sys

from mediation.docs.pages import main

sys.exit(main())
