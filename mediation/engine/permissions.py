"""Who may do what: every action the engine offers, the roles it needs, and the scope checks.

Permissions are keyed by :class:`Action`, not by how a client spells a command, and are
checked by the library (:mod:`mediation.api`) for every client alike: the command line,
a web service, a script.

Four roles (``taxonomy.ROLES``):

- **mediator** (调解员): opens and advances cases of their own organisation, and cases
  they are assigned to anywhere;
- **staff** (工作人员): renders and signs documents;
- **supervisor** (督办/主管): reports, any organisation's cases, approving statutory
  extensions, merging disputes, verifying the audit chain;
- **admin** (系统管理员): users, organisations, calendars, keys, schema, backups, moves.

A user may hold several roles. There is no open set-up window: whoever creates the
database (``mediation init``, ``demo``) becomes its first admin, and every action checks
the acting user's roles. A database without users (made by an older version) allows only
the actions that make its first admin (:data:`BOOTSTRAP`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select

from mediation.domain.taxonomy import ROLES
from mediation.engine.users import User, get_user, users_exist
from mediation.errors import PermissionDenied
from mediation.storage._tables import proceeding_table


class Action(StrEnum):
    """Every action of the engine, with its Chinese name (:attr:`label`) for messages."""

    label: str

    def __new__(cls, value: str, label: str) -> Action:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    INIT = "init", "初始化数据库"
    DB_UPGRADE = "db.upgrade", "升级数据库结构"
    DB_STATUS = "db.status", "查看数据库状态"
    DB_GRANTS = "db.grants", "生成数据库授权语句"
    BACKUP = "backup", "备份数据库"
    EXPORT = "export", "导出数据库"
    IMPORT = "import", "导入数据库"
    DEMO = "demo", "生成演示数据"
    ORG_ADD = "org.add", "登记组织"
    ORG_EDIT = "org.edit", "修改组织"
    ORG_RETIRE = "org.retire", "撤销组织"
    ORG_SET_PERIOD = "org.set_period", "设置组织的调解期限"
    ORG_SET_COURT_CODE = "org.set_court_code", "设置法院代字"
    ORG_LIST = "org.list", "查看组织"
    CALENDAR_LOAD = "calendar.load", "载入节假日安排"
    CALENDAR_SHOW = "calendar.show", "查看节假日安排"
    DEADLINE_COMPUTE = "deadline.compute", "计算期限"
    KEYS_INIT = "keys.init", "创建签章密钥"
    KEYS_IMPORT = "keys.import", "导入签章密钥"
    KEYS_LIST = "keys.list", "查看签章密钥"
    USER_ADD = "user.add", "添加用户"
    USER_LIST = "user.list", "查看用户"
    USER_GRANT = "user.grant", "授予或撤销角色"
    CASE_OPEN = "case.open", "立案"
    CASE_ADVANCE = "case.advance", "推进案件"
    CASE_AMEND_PARTY = "case.amend_party", "更正当事人信息"
    CASE_CORRECT = "case.correct", "更正已登记的步骤"
    CASE_REASSIGN = "case.reassign", "改派调解员"
    CASE_LIST = "case.list", "查看案件列表"
    CASE_SHOW = "case.show", "查看案件"
    CASE_HISTORY = "case.history", "查看案件记录"
    CASE_NEXT = "case.next", "查看可执行操作"
    INTAKE_IMPORT = "intake.import", "批量导入案件"
    DISPUTE_SHOW = "dispute.show", "查看纠纷"
    DISPUTE_MERGE = "dispute.merge", "合并纠纷"
    DISPUTE_SPLIT = "dispute.split", "拆分纠纷"
    WORKFLOW_LIST = "workflow.list", "查看流程"
    WORKFLOW_SHOW = "workflow.show", "查看流程"
    REPORT_OVERDUE = "report.overdue", "查看逾期报告"
    REPORT_DUE_SOON = "report.due_soon", "查看即将到期报告"
    REPORT_STATS = "report.stats", "查看统计报表"
    SWEEP_ADD = "sweep.add", "登记矛盾纠纷排查"
    SWEEP_LIST = "sweep.list", "查看矛盾纠纷排查"
    SCHEDULER_RUN = "scheduler.run", "运行期限调度"
    AUDIT_VERIFY = "audit.verify", "核验审计链"
    AUDIT_CHECKPOINT = "audit.checkpoint", "生成审计检查点"
    DOC_RENDER = "doc.render", "生成文书"
    DOC_RENDER_ALL = "doc.render_all", "批量生成文书"
    DOC_SIGN = "doc.sign", "加盖电子印章"
    DOC_GET = "doc.get", "取出已保存的文书"
    DOC_CASEFILE = "doc.casefile", "合订卷宗"
    DOC_VERIFY = "doc.verify", "核验已签章文书"
    DOC_RECORD_SIGNATURE = "doc.record_signature", "登记签名"
    REVEAL = "reveal", "查看未遮蔽的个人信息"
    EXPORT_REVEAL = "export.reveal", "导出未遮蔽的个人信息"


_ANY = "mediator staff supervisor admin"

#: The roles each action needs; ``None``: touches no case data, anyone may.
ROLES_FOR: dict[Action, frozenset[str] | None] = {}


def _allow(roles: str, *actions: Action) -> None:
    for action in actions:
        ROLES_FOR[action] = frozenset(roles.split()) if roles else None


_allow("admin", Action.INIT, Action.DB_UPGRADE, Action.BACKUP, Action.IMPORT, Action.DEMO)
_allow(
    "admin",
    Action.ORG_ADD,
    Action.ORG_SET_PERIOD,
    Action.ORG_SET_COURT_CODE,
    Action.CALENDAR_LOAD,
)
_allow("admin", Action.ORG_EDIT, Action.ORG_RETIRE)
_allow("admin", Action.KEYS_INIT, Action.KEYS_IMPORT)
_allow("admin", Action.USER_ADD, Action.USER_LIST, Action.USER_GRANT, Action.EXPORT_REVEAL)
_allow(_ANY, Action.ORG_LIST, Action.CALENDAR_SHOW, Action.KEYS_LIST)
_allow(
    "mediator supervisor",
    Action.CASE_OPEN,
    Action.CASE_ADVANCE,
    Action.CASE_AMEND_PARTY,
    Action.INTAKE_IMPORT,
)
_allow(
    _ANY,
    Action.CASE_LIST,
    Action.CASE_SHOW,
    Action.CASE_HISTORY,
    Action.CASE_NEXT,
    Action.DISPUTE_SHOW,
)
# A recorded step's data: the mediators, the committee's staff who keep the record, and
# supervisors; scoped like advancing (a non-supervisor: their organisation's and assigned
# cases).
_allow("mediator staff supervisor", Action.CASE_CORRECT)
# A sweep is filed by a mediator or staff member of the committee that held it (checked
# against their organisation in mediation.engine.sweeps), or by a supervisor for any.
_allow("mediator staff supervisor", Action.SWEEP_ADD)
_allow(_ANY, Action.SWEEP_LIST)
_allow("supervisor", Action.DISPUTE_MERGE, Action.DISPUTE_SPLIT, Action.CASE_REASSIGN)
_allow(
    "supervisor",
    Action.REPORT_OVERDUE,
    Action.REPORT_DUE_SOON,
    Action.REPORT_STATS,
    Action.SCHEDULER_RUN,
)
_allow(
    "supervisor admin", Action.AUDIT_VERIFY, Action.AUDIT_CHECKPOINT, Action.EXPORT, Action.REVEAL
)
_allow("staff", Action.DOC_RENDER, Action.DOC_RENDER_ALL, Action.DOC_SIGN)
# A supervisor too: a signature made more than 7 days ago is a supervisor's to record
# (mediation.engine.declared).
_allow("staff mediator supervisor", Action.DOC_RECORD_SIGNATURE)
_allow("staff", Action.DOC_GET, Action.DOC_CASEFILE)
# The schema revision, the declared flows, pure date arithmetic, checking a PDF against
# the keys on record, and printing SQL: no case data.
_allow(
    "",
    Action.DB_STATUS,
    Action.DB_GRANTS,
    Action.WORKFLOW_LIST,
    Action.WORKFLOW_SHOW,
    Action.DEADLINE_COMPUTE,
    Action.DOC_VERIFY,
)

#: Roles allowed to reveal personal data; each reveal is an access event in the chain.
REVEAL_ROLES = ROLES_FOR[Action.REVEAL]


def role_names(roles: frozenset[str]) -> str:
    """``督办（supervisor）或系统管理员（admin）``."""
    return "或".join(f"{ROLES[r]}（{r}）" for r in sorted(roles))


def _needs(what: str, roles: frozenset[str]) -> str:
    return f"「{what}」需要{role_names(roles)}角色"


def _grant_hint(login: str, roles: frozenset[str]) -> str:
    """Ask for the least powerful role that would do (never admin when another would)."""
    role = sorted(roles - {"admin"} or roles)[0]
    return f"请系统管理员授权：mediation user grant {login} {role}"


#: What may run on a database that has no users yet: each makes its runner the first
#: admin (init, demo, upgrading a database made before users were required) or brings the
#: users with the data (import into a new database).
BOOTSTRAP = frozenset({Action.INIT, Action.DB_UPGRADE, Action.DEMO, Action.IMPORT})


def _no_users(conn: Connection, action: Action) -> User | None:
    """A database without users allows :data:`BOOTSTRAP` actions, unless its chain records
    users: then they were deleted behind it, and making a new first admin would hand the
    database to whoever asks first. ``audit verify`` runs either way (it reports that)."""
    if action == Action.AUDIT_VERIFY:
        return None
    from mediation.storage import audit  # ~2 ms of start-up at module level

    if audit.users_recorded(conn):
        raise PermissionDenied(
            f"「{action.label}」被拒绝：用户表是空的，但审计链记载过用户——数据库可能被改动过",
            hint="请运行 mediation audit verify 查明，并从备份恢复",
        )
    if action in BOOTSTRAP:
        return None
    raise PermissionDenied(
        f"「{action.label}」被拒绝：数据库尚无用户",
        hint="先运行 mediation init：运行它的账户成为第一位系统管理员",
    )


def authorize(conn: Connection, login: str, action: Action) -> User | None:
    """The acting user if they may perform ``action``; None for actions that touch no case
    data, and for :data:`BOOTSTRAP` actions on a database without users.

    :raises PermissionDenied: naming the role the action needs.
    """
    needed = ROLES_FOR[action]
    if needed is None:
        return None
    user = get_user(conn, login)
    if user is None and not users_exist(conn):
        return _no_users(conn, action)
    if user is None or not user.active:
        raise PermissionDenied(
            f"{_needs(action.label, needed)}；{login!r} 不是本系统的用户",
            hint="请以已登记的用户身份操作，或请系统管理员添加：mediation user add",
        )
    if not user.roles & needed:
        held = "、".join(sorted(user.roles)) or "无角色"
        raise PermissionDenied(
            f"{_needs(action.label, needed)}；{login!r} 的角色为 {held}",
            hint=_grant_hint(login, needed),
        )
    return user


def require_role(conn: Connection, login: str, roles: frozenset[str], what: str) -> None:
    """Refuse ``what`` unless ``login`` holds one of ``roles``."""
    user = get_user(conn, login)
    if user is None or not user.roles & roles:
        raise PermissionDenied(
            _needs(what, roles),
            hint=_grant_hint(login, roles),
        )


def is_assigned(user: User, proceeding: Any) -> bool:
    """Whether the case is assigned to ``user``, by login (a namesake gets nothing)."""
    return user.login in {proceeding.mediator, *(proceeding.mediators or ())}


def may_act_on(user: User | None, proceeding: Any) -> bool:
    """Whether ``user`` may act on a case: supervisors anywhere; others on their
    organisation's cases and the cases assigned to them (by login)."""
    if user is None or "supervisor" in user.roles:
        return True
    if user.organisation_id is not None and user.organisation_id == proceeding.organisation_id:
        return True
    return is_assigned(user, proceeding)


def restricted(user: User | None, *, acting: bool) -> bool:
    """Whether ``user`` sees only their own organisation's and assigned cases: reading, a
    user who is nothing but a mediator; acting, anyone but a supervisor."""
    if user is None or "supervisor" in user.roles:
        return False
    return acting or not user.roles - {"mediator"}


def may_reveal(user: User | None, proceeding: Any) -> bool:
    """Unmasked personal data: supervisors and admins; a mediator for the cases assigned
    to them (they call the parties). Nobody else: not an unknown login."""
    if user is None:
        return False
    if user.roles & (REVEAL_ROLES or frozenset()):
        return True
    return "mediator" in user.roles and is_assigned(user, proceeding)


def scope_row(conn: Connection, pid: int) -> Any:
    """What the scope checks read of a case: number, organisation, mediators."""
    return conn.execute(
        select(
            proceeding_table.c.case_number,
            proceeding_table.c.organisation_id,
            proceeding_table.c.mediator,
            proceeding_table.c.mediators,
        ).where(proceeding_table.c.id == pid)
    ).first()


def check_case_scope(conn: Connection, user: User | None, pid: int, *, acting: bool) -> None:
    """Refuse a user a case outside their organisation and assignments. Reading is refused
    only to a user who is nothing but a mediator; acting, to any non-supervisor."""
    if not restricted(user, acting=acting):
        return
    assert user is not None
    row = scope_row(conn, pid)
    if row is not None and not may_act_on(user, row):
        raise PermissionDenied(
            f"{row.case_number} 属于其他调委会，且未指派给 {user.login!r}",
            hint="请督办人员改派该案件，或由该案件的调解员办理",
        )


def check_trigger_role(conn: Connection, login: str, flow_roles: set[str], trigger: str) -> None:
    """Some triggers need more than a mediator (approving a statutory extension)."""
    if flow_roles - {"mediator"}:
        require_role(conn, login, frozenset(flow_roles - {"mediator"}), f"`{trigger}`")


def record_reveal(
    conn: Connection, *, actor: str, command: str, subject: str, now: datetime
) -> None:
    """A reveal of personal data, as an access event in the chain."""
    from mediation.storage import audit  # ~2 ms of start-up at module level

    audit.append_access(
        conn,
        action="reveal",
        actor=actor,
        subject=subject[:200],
        detail={"command": command},
        now=now,
    )


def record_acting_for(
    conn: Connection, *, admin: str, actor: str, action: Action, now: datetime
) -> None:
    """An admin acting for ``actor`` (``--as``, for support), checked and recorded as an
    access event in the chain, in ``conn``'s write transaction.

    :raises PermissionDenied: unless ``admin`` is an active admin.
    """
    user = get_user(conn, admin)
    if user is None or not user.active or "admin" not in user.roles:
        raise PermissionDenied(
            f"只有系统管理员可以代他人操作（--as {actor}）；{admin!r} 不是系统管理员",
            hint=f"去掉 --as：本次操作的操作者是 {admin!r}（本机账户或数据库登录）",
        )
    from mediation.storage import audit  # ~2 ms of start-up at module level

    audit.append_access(
        conn,
        action="act_for",
        actor=admin,
        subject=actor[:200],
        detail={"action": action.value},
        now=now,
    )
