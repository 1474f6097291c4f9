"""The statuses' groups agree with the transition table and the SLA's phases."""

from atiende.cases import statuses, transitions
from atiende.cases.statuses import Status
from atiende.sla.phases import PAUSED, Phase


def test_finished_statuses_are_those_nothing_moves():
    assert {s for s, targets in transitions.ALLOWED.items() if not targets} == statuses.FINISHED


def test_every_status_is_either_active_or_done():
    assert set(Status) == statuses.ACTIVE | statuses.DONE
    assert not statuses.ACTIVE & statuses.DONE


def test_the_sla_clock_is_paused_exactly_in_the_paused_statuses():
    assert {s for s in Status if statuses.sla_phase(s) in PAUSED} == statuses.PAUSED
    assert {s for s in Status if statuses.sla_phase(s) == Phase.STOPPED} == statuses.FINISHED


def test_a_reopening_is_resolved_to_open():
    assert statuses.is_reopening("resolved", "open")
    assert not statuses.is_reopening("awaiting_info", "open")
    assert statuses.label("awaiting_info") == "En espera de información"
