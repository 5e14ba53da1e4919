"""委托调解 under the simplified procedure (简易程序): 7 days (特邀调解规定 art. 27)."""

from __future__ import annotations

from mediation.workflows.entrusted import build

FLOW = build("entrusted_simple", "委托调解（立案后，简易程序）", 7, "简易程序")
