"""Cases and disputes: open, advance, look at, correct, reassign, merge and split."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediation.api._base import Session
from mediation.engine.permissions import Action, check_trigger_role
from mediation.storage.refs import resolve

if TYPE_CHECKING:
    from mediation.api.detail_results import CaseDetail
    from mediation.api.results import (
        CaseHistory,
        CaseList,
        CaseSummary,
        DisputeLineage,
        NextTriggers,
    )
    from mediation.api.write_results import Corrected, DisputeMerge, PartyAmended, Reassigned
    from mediation.domain.intake import Intake
    from mediation.engine.caselist import CaseQuery
    from mediation.engine.cases import Advanced, Opened
    from mediation.engine.imports import ImportResult
    from mediation.engine.users import User


class CasesAPI(Session):
    def open_case(self, record: Intake) -> Opened:
        """Register a dispute and open its first proceeding (one transaction). The result
        names the open cases of the same parties and dispute type already registered
        (``duplicates``): the case opens all the same, the caller warns.

        :param record: a validated intake record (:func:`mediation.domain.intake.load` or
            :func:`~mediation.domain.intake.validate`).
        """
        from mediation.engine.cases import open_in
        from mediation.engine.duplicates import open_duplicates
        from mediation.engine.permissions import restricted
        from mediation.errors import PermissionDenied

        cal = self.store.calendar()
        with self._writing() as conn:
            user = self._authorize(Action.CASE_OPEN, conn)
            if (
                user is not None
                and restricted(user, acting=True)
                and record.organisation != user.organisation
            ):
                raise PermissionDenied(
                    f"{self.actor!r} 只能在本调委会（{user.organisation or '未设组织'}）立案，"
                    f"不能在 {record.organisation!r} 立案",
                    hint="请该调委会的调解员立案，或请督办人员办理",
                )
            duplicates = open_duplicates(conn, record)
            opened = open_in(conn, record, actor=self.actor, now=self.clock.now(), cal=cal)
        return replace(opened, duplicates=duplicates)

    def import_intake(
        self,
        file: Path,
        *,
        channel: str,
        org: str | None = None,
        referring_organ: str | None = None,
        report: Path | None = None,
    ) -> ImportResult:
        """Import every row of a channel's export as new cases, or none (a row-level error
        report is written when any row is bad)."""
        from mediation.engine.imports import import_file
        from mediation.engine.permissions import restricted

        user = self._authorize(Action.INTAKE_IMPORT)
        only_org = None
        if user is not None and restricted(user, acting=True):
            only_org = user.organisation or ""
        return import_file(
            self.store,
            file,
            only_org=only_org,
            channel=channel,
            actor=self.actor,
            now=self.clock.now(),
            org=org,
            referring_organ=referring_organ,
            report=report,
        )

    def advance(
        self,
        case: str | int,
        trigger: str,
        *,
        payload: Mapping[str, Any] | None = None,
        note: str | None = None,
        expect_version: int | None = None,
        at: datetime | None = None,
    ) -> Advanced:
        """Fire ``trigger`` on ``case`` in one transaction, recorded as an event.

        :param trigger: the trigger's name or the label the system shows (``受理``).
        :param payload: the fields the trigger's step accepts (``Transition.requires`` and
            ``.optional``); a coded value by its code or its label (``kind=调查``).
        :param at: when the step happened, if not now (a session held yesterday): kept in
            the event beside the recording time, printed by the documents; the step's
            clocks count from its day. Not in the future, not before the case's previous
            step, and no more than 7 days ago unless the acting user is a supervisor.
        :raises TransitionNotAllowed: (exit 5) when the state does not allow it, or ``at``
            is more than 7 days ago and the acting user is not a supervisor.
        :raises ValidationError: (exit 3) when its data is missing or wrong, or names a
            field the step does not accept; when ``at`` is in the future or before the
            case's previous step.
        """
        from mediation.engine.cases import advance_in
        from mediation.engine.machine import load
        from mediation.engine.payloads import checked_payload, trigger_named
        from mediation.storage._tables import proceeding_table

        if expect_version is None:
            # The version as the request found it: when another change is committed while
            # this one waits for the case's lock, this one is a conflict (exit 6), not a
            # trigger the new state happens to refuse.
            with self.store.read() as conn:
                cal = self.store.calendar_reading(conn)
                expect_version = resolve(conn, case)[1]
        else:
            cal = self.store.calendar()
        with self._writing() as conn:
            pid = self._case(conn, Action.CASE_ADVANCE, case, acting=True)
            flow_name, state = conn.execute(
                proceeding_table.select()
                .with_only_columns(proceeding_table.c.flow, proceeding_table.c.state)
                .where(proceeding_table.c.id == pid)
            ).one()
            flow = load(flow_name).flow
            trigger = trigger_named(flow, state, trigger)
            data = checked_payload(flow, trigger, payload or {})
            roles = {t.role for t in flow.transitions if t.trigger == trigger}
            check_trigger_role(conn, self.actor, roles, trigger)
            return advance_in(
                conn,
                pid,
                trigger,
                actor=self.actor,
                now=self.clock.now(),
                note=note,
                payload=data,
                expect_version=expect_version,
                cal=cal,
                happened_at=at,
            )

    def correct(
        self, case: str | int, seq: int, changes: Mapping[str, Any], *, reason: str
    ) -> Corrected:
        """Correct fields recorded by the step ``seq`` (its # in the history) of ``case``:
        a ``correct`` event with the reason and each field's old and new value; the
        state does not change; documents and :meth:`show_case` use the corrected values.

        :param changes: field → new value: fields the step's trigger takes, checked as
            :meth:`advance` checks them ("" clears an optional one).
        :raises NotFoundError: (exit 4) when the case has no step ``seq``.
        :raises ValidationError: (exit 3) for an unknown field (with the likely one meant),
            a step without data, a field that decided the step (a party, a date a clock
            counts from), a value the step would refuse, or no reason.
        :raises TransitionNotAllowed: (exit 5) when the correction would change a document
            already sealed: a sealed document is final.
        :raises PermissionDenied: (exit 9) outside the acting user's roles or scope (a
            mediator or staff: their committee's and assigned cases).
        """
        from mediation.api.write_results import Corrected
        from mediation.documents.context import gather, sealed_contents
        from mediation.engine.corrections import correct_in
        from mediation.errors import TransitionNotAllowed

        with self._writing() as conn:
            pid = self._case(conn, Action.CASE_CORRECT, case, acting=True)
            sealed = sealed_contents(gather(conn, pid))
            result = correct_in(
                conn, pid, seq, changes, reason=reason, actor=self.actor, now=self.clock.now()
            )
            if sealed:
                now_sealed = sealed_contents(gather(conn, pid))
                changed = [
                    title for key, (title, text) in sealed.items() if now_sealed[key][1] != text
                ]
                if changed:
                    raise TransitionNotAllowed(
                        f"{result['case_number']} 的{'、'.join(changed)}已签章，"
                        f"这项更正会改变其内容：已签章的文书是最终文本，不能更正",
                        hint="签章前发现的错误，更正后重新生成即可（mediation doc render）；"
                        "签章后的错误须依法另行处理（例如当事人重新达成协议），并在案件中记录",
                    )
        return Corrected.of(result)

    def next_triggers(self, case: str | int) -> NextTriggers:
        """The triggers allowed now, with the data each requires."""
        from mediation.api.results import NextTriggers
        from mediation.engine.queries import next_triggers

        with self.store.read() as conn:
            self._case(conn, Action.CASE_NEXT, case)
        return NextTriggers.of(next_triggers(self.store, str(case)))

    def history(self, case: str | int) -> CaseHistory:
        """The recorded events of a case, oldest first."""
        from mediation.api.results import CaseHistory
        from mediation.engine.queries import history

        with self.store.read() as conn:
            self._case(conn, Action.CASE_HISTORY, case)
        return CaseHistory.of(history(self.store, str(case)))

    def show_case(self, case: str | int, *, reveal: bool = False) -> CaseDetail:
        """Everything about one case; personal data masked unless ``reveal`` (a permitted
        role only; recorded as an access event)."""
        from mediation.api.detail_results import CaseDetail
        from mediation.engine.queries import case_detail

        today = self.clock.today()
        if reveal:
            with self._writing() as conn:
                pid = self._case(conn, Action.CASE_SHOW, case)
                self._reveal(conn, Action.CASE_SHOW, f"case {case}", cases=[pid])
                return CaseDetail.of(case_detail(conn, pid, reveal=True, today=today))
        with self.store.read() as conn:
            pid = self._case(conn, Action.CASE_SHOW, case)
            return CaseDetail.of(case_detail(conn, pid, today=today))

    def find_cases(
        self,
        *,
        flow: str | None = None,
        state: str | None = None,
        org: str | None = None,
        level: str | None = None,
        mediator: str | None = None,
        dispute_type: str | None = None,
        party: str | None = None,
        phone: str | None = None,
        id_number: str | None = None,
        text: str | None = None,
        received_from: date | None = None,
        received_to: date | None = None,
        overdue: bool = False,
        mine: bool = False,
        status: str = "all",
        limit: int = 50,
        offset: int = 0,
    ) -> CaseList:
        """One page of the cases found, latest filed first, with how many there are and
        each case's parties (masked). A mediator finds only their organisation's cases and
        those assigned to them.

        Codes are accepted by their labels too (``state="调查调解中"``, ``org`` by code or
        name); ``party`` is a part of a name, ``phone`` and ``id_number`` exact, ``text`` a
        part of the title; ``mine``: assigned to the acting user's login; ``overdue``: a
        duty deadline is past its due date today.

        :raises ValidationError: (exit 3) when a filter names nothing (with the likely one
            meant): a typo never reads as "no such cases".
        """
        from mediation.engine.caselist import CaseQuery

        user = self._authorize(Action.CASE_LIST)
        return self._found(
            user,
            CaseQuery(
                flow=flow,
                state=state,
                org=org,
                level=level,
                mediator=mediator,
                dispute_type=dispute_type,
                party=party,
                phone=phone,
                id_number=id_number,
                text=text,
                received_from=received_from,
                received_to=received_to,
                overdue=overdue,
                mine=mine,
                status=status,
                limit=limit,
                offset=offset,
            ),
        )

    def _found(self, user: User | None, query: CaseQuery) -> CaseList:
        """The page ``query`` finds, within what ``user`` may see (checked for CASE_LIST)."""
        from mediation.api.results import CaseList, CaseSummary
        from mediation.engine.caselist import find_cases
        from mediation.engine.permissions import restricted

        visible = None
        if user is not None and restricted(user, acting=False):
            visible = (user.organisation_id, user.login)
        page = find_cases(
            self.store, query, login=self.actor, today=self.clock.today(), visible_to=visible
        )
        return CaseList(
            cases=[CaseSummary.of(r) for r in page.rows],
            total=page.total,
            offset=page.offset,
            limit=page.limit,
        )

    def list_cases(
        self,
        *,
        flow: str | None = None,
        state: str | None = None,
        org: str | None = None,
        level: str | None = None,
        mediator: str | None = None,
        status: str = "all",
        limit: int = 50,
    ) -> list[CaseSummary]:
        """Cases, latest filed first, filtered (``status``: open, closed or all): the
        first page of :meth:`find_cases`."""
        from mediation.engine.caselist import CaseQuery

        user = self._authorize(Action.CASE_LIST)
        query = CaseQuery(
            flow=flow, state=state, org=org, level=level, mediator=mediator, status=status
        )
        return self._found(user, replace(query, limit=limit)).cases

    def reassign(self, case: str | int, mediators: list[str], *, reason: str) -> Reassigned:
        """Give a running case to other mediators; recorded with the previous ones."""
        from mediation.api.write_results import Reassigned
        from mediation.engine.cases import reassign

        self._authorize(Action.CASE_REASSIGN)
        return Reassigned.of(
            reassign(
                self.store, case, mediators, reason=reason, actor=self.actor, now=self.clock.now()
            )
        )

    def amend_party(
        self,
        case: str | int,
        party: str,
        changes: Mapping[str, str | None],
        *,
        reason: str,
        role: str | None = None,
    ) -> PartyAmended:
        """Correct a party's particulars on a running case, checked as at intake; the
        event keeps the old and new values masked."""
        from mediation.api.write_results import PartyAmended
        from mediation.engine.parties import amend_party

        with self.store.read() as conn:
            self._case(conn, Action.CASE_AMEND_PARTY, case, acting=True)
        return PartyAmended.of(
            amend_party(
                self.store,
                case,
                party,
                changes,
                reason=reason,
                actor=self.actor,
                now=self.clock.now(),
                role=role,
            )
        )

    def dispute(self, ref: str, *, reveal: bool = False) -> DisputeLineage:
        """A dispute (its id, or ``case:CASE``) and the lineage of its proceedings."""
        from mediation.api.results import DisputeLineage
        from mediation.engine.permissions import may_act_on, restricted, scope_row
        from mediation.engine.queries import dispute_lineage
        from mediation.errors import PermissionDenied

        masked = dispute_lineage(self.store, ref)
        cases = [p["id"] for p in masked["proceedings"]]
        with self._writing() if reveal else self.store.read() as conn:
            user = self._authorize(Action.DISPUTE_SHOW, conn)
            if restricted(user, acting=False) and not any(
                may_act_on(user, scope_row(conn, pid)) for pid in cases
            ):
                raise PermissionDenied(
                    f"纠纷 #{masked['dispute']['id']} 的案件都属于其他调委会，且未指派给 {self.actor!r}",
                    hint="请督办人员查看，或请其将案件指派给您",
                )
            if reveal:
                self._reveal(conn, Action.DISPUTE_SHOW, f"dispute {ref}", cases=cases)
        if not reveal:
            return DisputeLineage.of(masked)
        return DisputeLineage.of(dispute_lineage(self.store, ref, reveal=True))

    def merge_disputes(self, keep: int, merged: int, *, reason: str) -> DisputeMerge:
        """Merge a dispute reported again through another channel into the first."""
        from mediation.api.write_results import DisputeMerge
        from mediation.engine.disputes import merge

        self._authorize(Action.DISPUTE_MERGE)
        return DisputeMerge.of(
            merge(self.store, keep, merged, reason=reason, actor=self.actor, now=self.clock.now())
        )

    def split_dispute(self, merged: int, *, reason: str) -> DisputeMerge:
        """Undo a wrong merge; the merge stays on record."""
        from mediation.api.write_results import DisputeMerge
        from mediation.engine.disputes import split

        self._authorize(Action.DISPUTE_SPLIT)
        return DisputeMerge.of(
            split(self.store, merged, reason=reason, actor=self.actor, now=self.clock.now())
        )
