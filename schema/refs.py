"""Forward references: the types a module builds but may not import, because they stand above
it (a user's profiles, a job's proposals, a proposal's interview, a review's contract).

The schema's modules import one another one way only, lower to higher: users, reviews,
profiles, jobs, proposals, interviews, the contract family (contract_enums, milestones,
hourly, contract_events, disputes, contracts), payments. A field that points back up
annotates its type lazily (`strawberry.lazy`) and builds its value here; each of these types
registers itself when its module is imported, which building the schema does first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from schema.contracts import Contract
    from schema.interviews import Interview
    from schema.profiles import ClientProfile, FreelancerProfile
    from schema.proposals import Proposal

T = TypeVar("T", bound=type)

_types: dict[str, Any] = {}


def registered(cls: T) -> T:
    _types[cls.__name__] = cls
    return cls


def _build(type_name: str, row: Any) -> Any:
    return _types[type_name].from_row(row)


def freelancer_profile(row: Any) -> FreelancerProfile:
    built: FreelancerProfile = _build("FreelancerProfile", row)
    return built


def client_profile(row: Any) -> ClientProfile:
    built: ClientProfile = _build("ClientProfile", row)
    return built


def proposal(row: Any) -> Proposal:
    built: Proposal = _build("Proposal", row)
    return built


def interview(row: Any) -> Interview:
    built: Interview = _build("Interview", row)
    return built


def contract(row: Any) -> Contract:
    built: Contract = _build("Contract", row)
    return built
