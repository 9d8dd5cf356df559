"""Types reachable only through interfaces (`node`), listed so the schema includes them."""

from schema.contract_events import ContractEvent
from schema.contracts import Contract
from schema.disputes import Dispute
from schema.hourly import TimeEntry
from schema.interviews import Interview, Message
from schema.jobs import Invitation, Job
from schema.milestones import Milestone
from schema.notifications import Notification
from schema.payments import Transaction
from schema.profiles import ClientProfile, FreelancerProfile, PortfolioItem, Skill
from schema.proposals import Proposal
from schema.reviews import Review
from schema.users import User

ALL_TYPES = [
    User,
    Skill,
    FreelancerProfile,
    ClientProfile,
    PortfolioItem,
    Job,
    Invitation,
    Proposal,
    Notification,
    Interview,
    Message,
    Contract,
    Milestone,
    ContractEvent,
    Dispute,
    TimeEntry,
    Transaction,
    Review,
]
