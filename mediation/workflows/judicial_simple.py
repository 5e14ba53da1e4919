"""司法调解 under the simplified procedure (简易程序): 7 days (民事调解规定 art. 4)."""

from __future__ import annotations

from mediation.workflows.judicial import build

FLOW = build("judicial_simple", "司法调解（诉讼中，简易程序）", 7, "简易程序")
