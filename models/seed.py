"""`marketplace seed`: a believable demo marketplace. Every demo account's password is
DEMO_PASSWORD.

Freelancers and clients sign up through the real actions; clients post a few hundred jobs
(fixed and hourly, drafts, invite-only ones with invitations, some closed later) and freelancers
bid on them with `submit_proposal`, paying connects like anyone else (topped up with monthly
allotments when they run short). Everything is drawn from one seeded `random.Random`, so two runs
produce the same marketplace (ids and "now" aside); timestamps are then spread over the past
weeks so lists ordered by date look lived in.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.transactions import in_transaction

from models.actors import Actor, actor_for
from models.base import utc_now
from models.jobs import actions as jobs
from models.jobs.orm import BudgetType, ExperienceLevel, Job, JobStatus, JobVisibility
from models.profiles import actions as profiles
from models.profiles.catalog import SKILL_NAMES, ensure_skill_catalog
from models.profiles.orm import Availability
from models.proposals import actions as proposals
from models.proposals import connects
from models.proposals.orm import ConnectsReason, Proposal
from models.users import actions as users
from models.users.orm import User
from settings import get_settings

DEMO_PASSWORD = "demo-password-2026"

FIRST_NAMES = [
    "Ada",
    "Grace",
    "Linus",
    "Margaret",
    "Alan",
    "Barbara",
    "Ken",
    "Radia",
    "Dennis",
    "Frances",
    "Guido",
    "Hedy",
    "Tim",
    "Katherine",
    "Donald",
    "Sophie",
    "Yukihiro",
    "Annie",
    "Brendan",
    "Joan",
    "Bjarne",
    "Evelyn",
    "James",
    "Jean",
]
LAST_NAMES = [
    "Lovelace",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Turing",
    "Liskov",
    "Thompson",
    "Perlman",
    "Ritchie",
    "Allen",
    "van Rossum",
    "Lamarr",
    "Berners-Lee",
    "Johnson",
    "Knuth",
    "Wilson",
    "Matsumoto",
    "Easley",
    "Eich",
    "Clarke",
    "Stroustrup",
    "Boyd",
]
TITLES = [
    "Senior {skill} developer",
    "{skill} specialist",
    "Full-stack engineer ({skill})",
    "{skill} consultant",
    "Freelance {skill} expert",
]
CITIES = [
    "Lisbon, Portugal",
    "Nairobi, Kenya",
    "Toronto, Canada",
    "Berlin, Germany",
    "Manila, Philippines",
    "Austin, USA",
    "Buenos Aires, Argentina",
    "Kraków, Poland",
]
COMPANIES = [
    "Northwind Labs",
    "Blue Heron Media",
    "Acme Robotics",
    "Lumen Health",
    "Orbit Logistics",
    "Papercrane Studio",
    "Quarry Analytics",
    "Tidewater Retail",
]


@dataclass(frozen=True)
class Category:
    """A kind of work: the skills it uses and the words its job posts are made of."""

    skills: tuple[str, ...]
    titles: tuple[str, ...]
    things: tuple[str, ...]
    tasks: tuple[str, ...]
    # (low, high) in dollars of a fixed budget and of an hourly rate, for an INTERMEDIATE job.
    budget: tuple[int, int]
    rate: tuple[int, int]


CATEGORIES: dict[str, Category] = {
    "development": Category(
        skills=(
            "Python",
            "Django",
            "FastAPI",
            "GraphQL",
            "PostgreSQL",
            "Redis",
            "JavaScript",
            "TypeScript",
            "React",
            "Vue.js",
            "Angular",
            "Node.js",
            "Go",
            "Rust",
            "Java",
            "Kotlin",
            "PHP",
            "Laravel",
            "Ruby on Rails",
            "C#",
            ".NET",
            "C++",
            "WordPress",
            "Shopify",
            "Web Scraping",
            "Blockchain",
            "Solidity",
        ),
        titles=(
            "Build {a_thing} with {skill}",
            "{skill} developer for our {thing}",
            "Fix and extend our {skill} {thing}",
            "Migrate our {thing} to {skill}",
            "{skill} engineer for our {thing}",
            "{skill} API integration for {a_thing}",
        ),
        things=(
            "customer portal",
            "booking app",
            "inventory system",
            "marketplace MVP",
            "internal dashboard",
            "payments backend",
            "analytics API",
            "CRM integration",
            "browser extension",
            "subscription service",
            "admin panel",
            "reporting tool",
        ),
        tasks=(
            "design and build the {thing} end to end",
            "take over an unfinished {thing}",
            "add features and tests to our {thing}",
            "speed up slow pages of our {thing}",
            "review the code of our {thing} and fix what you find",
        ),
        budget=(500, 8000),
        rate=(35, 80),
    ),
    "mobile": Category(
        skills=(
            "Swift",
            "iOS",
            "Kotlin",
            "Android",
            "Flutter",
            "React Native",
            "Figma",
            "QA Testing",
        ),
        titles=(
            "{skill} developer for {a_thing}",
            "Ship our {thing} on {skill}",
            "Polish and release our {skill} {thing}",
            "{skill} {thing}: bugs and features",
        ),
        things=(
            "fitness app",
            "food delivery app",
            "banking app",
            "language learning app",
            "field service app",
            "event ticketing app",
            "habit tracker",
        ),
        tasks=(
            "build the first release of our {thing}",
            "fix crashes in our {thing}",
            "add offline mode to our {thing}",
            "prepare our {thing} for the app stores",
        ),
        budget=(1500, 12000),
        rate=(40, 90),
    ),
    "cloud": Category(
        skills=(
            "AWS",
            "Google Cloud",
            "Azure",
            "Docker",
            "Kubernetes",
            "Terraform",
            "DevOps",
            "Cybersecurity",
            "Test Automation",
            "PostgreSQL",
            "Go",
        ),
        titles=(
            "Set up {skill} for our {thing}",
            "{skill} cost and security review",
            "CI/CD pipeline with {skill} for {a_thing}",
            "Harden our {skill} setup",
            "{skill} engineer to automate our {thing}",
        ),
        things=(
            "SaaS platform",
            "staging environment",
            "monorepo",
            "data platform",
            "e-commerce stack",
            "microservices",
            "on-premise servers",
        ),
        tasks=(
            "move our {thing} to infrastructure as code",
            "cut the cloud bill of our {thing}",
            "set up monitoring and alerts for our {thing}",
            "run a security audit of our {thing}",
        ),
        budget=(800, 10000),
        rate=(50, 110),
    ),
    "data": Category(
        skills=(
            "Machine Learning",
            "Data Science",
            "Data Engineering",
            "SQL",
            "Excel",
            "Tableau",
            "Python",
            "PostgreSQL",
            "Web Scraping",
        ),
        titles=(
            "{skill} model for {thing}",
            "Clean and analyse {thing} with {skill}",
            "{skill} dashboard of our {thing}",
            "{skill} pipeline for {thing}",
            "{skill} expert to forecast {thing}",
        ),
        things=(
            "churn prediction",
            "sales data",
            "sensor logs",
            "survey results",
            "marketing funnel",
            "supply chain data",
            "support tickets",
            "pricing",
        ),
        tasks=(
            "turn our {thing} into weekly reports",
            "build a model of our {thing}",
            "load our {thing} into a warehouse",
            "find what drives our {thing}",
        ),
        budget=(400, 9000),
        rate=(40, 100),
    ),
    "design": Category(
        skills=(
            "UI Design",
            "UX Research",
            "Figma",
            "Graphic Design",
            "Logo Design",
            "Illustration",
            "Video Editing",
            "Animation",
            "3D Modeling",
        ),
        titles=(
            "{skill} for our {thing}",
            "Redesign the {thing} ({skill})",
            "{skill} designer for {a_thing}",
            "Fresh {skill} for {a_thing}",
        ),
        things=(
            "mobile app",
            "brand refresh",
            "landing page",
            "pitch deck",
            "onboarding flow",
            "product launch video",
            "children's book",
            "trade show booth",
        ),
        tasks=(
            "design our {thing} from sketches",
            "refresh the look of our {thing}",
            "test our {thing} with real users",
            "deliver source files for our {thing}",
        ),
        budget=(150, 4000),
        rate=(25, 70),
    ),
    "writing": Category(
        skills=(
            "Copywriting",
            "Technical Writing",
            "Content Writing",
            "Translation",
            "Voice Over",
            "SEO",
        ),
        titles=(
            "{skill}: {thing}",
            "{skill} for {a_thing}",
            "Experienced {skill} for {thing}",
            "Ongoing {skill} for our {thing}",
        ),
        things=(
            "product launch blog series",
            "developer documentation",
            "product pages",
            "explainer video script",
            "newsletter",
            "case studies",
            "help center",
        ),
        tasks=(
            "write our {thing}",
            "edit and restructure our {thing}",
            "translate our {thing} into Spanish and German",
            "record narration for our {thing}",
        ),
        budget=(100, 2500),
        rate=(20, 60),
    ),
    "marketing": Category(
        skills=(
            "SEO",
            "Social Media Marketing",
            "Email Marketing",
            "Copywriting",
            "Content Writing",
            "Shopify",
            "Graphic Design",
        ),
        titles=(
            "{skill} campaign for {a_thing}",
            "Grow our {thing} with {skill}",
            "{skill} specialist for {a_thing}",
            "{skill} audit of our {thing}",
        ),
        things=(
            "online shop",
            "B2B SaaS",
            "local restaurant chain",
            "mobile game",
            "nonprofit",
            "podcast",
            "travel agency",
        ),
        tasks=(
            "plan and run a campaign for our {thing}",
            "audit the funnel of our {thing}",
            "grow the audience of our {thing}",
            "set up automations for our {thing}",
        ),
        budget=(200, 5000),
        rate=(25, 75),
    ),
    "operations": Category(
        skills=(
            "Bookkeeping",
            "Accounting",
            "Virtual Assistant",
            "Customer Support",
            "Project Management",
            "Excel",
        ),
        titles=(
            "{skill} help for {a_thing}",
            "Part-time {skill} for {a_thing}",
            "{skill} for our {thing}",
            "Reliable {skill} for {a_thing}",
        ),
        things=(
            "small agency",
            "online shop",
            "startup",
            "law firm",
            "property manager",
            "consulting practice",
        ),
        tasks=(
            "keep the books of our {thing}",
            "answer customer emails for our {thing}",
            "organise the projects of our {thing}",
            "tidy up the admin of our {thing}",
        ),
        budget=(100, 3000),
        rate=(12, 45),
    ),
}
assert {name for category in CATEGORIES.values() for name in category.skills} <= set(SKILL_NAMES)
# Which kinds of work are most often posted.
CATEGORY_WEIGHTS = {
    "development": 30,
    "mobile": 8,
    "cloud": 10,
    "data": 14,
    "design": 12,
    "writing": 10,
    "marketing": 9,
    "operations": 7,
}

DESCRIPTION_CLOSINGS = (
    "Please share two or three similar projects you have done.",
    "Tell us how you would approach it and what you would need from us.",
    "We reply to every proposal within two working days.",
    "Start your proposal with the word 'pineapple' so we know you read this.",
    "We work async across time zones; a short weekly call is enough.",
    "Long-term work is possible for the right person.",
)
COVER_OPENINGS = (
    "Hi! I've done exactly this kind of work before.",
    "Hello, your post caught my eye.",
    "Good day. I read your brief carefully.",
    "Hi there, I'd love to help with this.",
)
DECLINE_REASONS = (
    "We went with someone closer to our time zone.",
    "The budget is above what we can spend.",
    "We need more experience with this stack.",
    None,
)


@dataclass
class Freelancer:
    actor: Actor
    name: str
    skills: list[str]
    balance: int


@dataclass
class Client:
    actor: Actor
    company: str


@dataclass
class PostedJob:
    row: Job
    client: Client
    skills: list[str]
    posted_at: datetime
    proposals: list[tuple[Proposal, Freelancer]] = field(default_factory=list)


async def seed_demo(
    *,
    force: bool = False,
    freelancers: int = 24,
    clients: int = 8,
    jobs_count: int = 300,
    seed: int = 2026,
) -> str:
    if not force and await User.filter(email__endswith="@demo.example").exists():
        return "demo data already present (use --force to add more)"
    await ensure_skill_catalog()
    rng = random.Random(seed)
    # Fresh emails for every forced run; drawn apart from `rng` so the content stays the same.
    tag = f"-{random.SystemRandom().randrange(10**6)}" if force else ""
    # Sign-ups at once: each spends most of its time hashing the password in a thread.
    names = [_freelancer_name(index) for index in range(freelancers)]
    sessions = await asyncio.gather(
        *(
            users.sign_up(
                email=f"freelancer{index}{tag}@demo.example",
                password=DEMO_PASSWORD,
                display_name=name,
            )
            for index, name in enumerate(names)
        ),
        *(
            users.sign_up(
                email=f"client{index}{tag}@demo.example",
                password=DEMO_PASSWORD,
                display_name=f"{_company(index)} hiring",
            )
            for index in range(clients)
        ),
    )
    crew = [
        await _make_freelancer(rng, session, name)
        for session, name in zip(sessions[:freelancers], names, strict=True)
    ]
    companies = [
        await _make_client(rng, session, _company(index))
        for index, session in enumerate(sessions[freelancers:])
    ]
    now = utc_now()
    # One transaction (each action's own becomes a savepoint): all the jobs or none, and SQLite
    # syncs to disk once instead of a few thousand times.
    async with in_transaction():
        posted = await _post_jobs(rng, companies, crew, jobs_count, now)
        count = await _submit_proposals(rng, posted, crew, now)
        await _move_proposals(rng, posted)
        closed = await _close_some(rng, posted)
    drafts = sum(job.row.status == JobStatus.DRAFT for job in posted)
    invite_only = sum(job.row.visibility == JobVisibility.INVITE_ONLY for job in posted)
    return (
        f"seeded {freelancers} freelancers, {clients} clients, {len(posted)} jobs "
        f"({drafts} drafts, {invite_only} invite-only, {closed} closed) and {count} "
        f"proposals; log in as freelancer0{tag}@demo.example or client0{tag}@demo.example "
        f"with password {DEMO_PASSWORD}"
    )


def _skill_set(rng: random.Random, category: Category, low: int, high: int) -> list[str]:
    skills = rng.sample(category.skills, k=min(len(category.skills), rng.randint(low, high)))
    if rng.random() < 0.2:  # the odd skill from another kind of work
        other = CATEGORIES[rng.choice(sorted(CATEGORIES))]
        extra = rng.choice(other.skills)
        if extra not in skills:
            skills.append(extra)
    return skills


def _freelancer_name(index: int) -> str:
    return f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[index % len(LAST_NAMES)]}"


def _company(index: int) -> str:
    return COMPANIES[index % len(COMPANIES)]


async def _make_freelancer(rng: random.Random, session: users.Session, name: str) -> Freelancer:
    category = CATEGORIES[_weighted(rng, CATEGORY_WEIGHTS)]
    skills = _skill_set(rng, category, 2, 6)
    profile = await profiles.create_freelancer_profile(
        session.user,
        {
            "title": rng.choice(TITLES).format(skill=skills[0]),
            "overview": f"{name} has shipped {rng.randint(3, 60)} projects with "
            f"{', '.join(skills)}. Clear communication, tested code, on time.",
            "hourly_rate": Decimal(rng.randrange(1500, 15000)) / 100,
            "skills": skills,
            "location": rng.choice(CITIES),
            "availability": rng.choice(list(Availability)),
        },
    )
    for item in range(rng.randint(0, 3)):
        await profiles.add_portfolio_item(
            session.user,
            title=f"{skills[item % len(skills)]} project #{item + 1}",
            description=f"A {skills[item % len(skills)]} engagement for a happy client.",
            url=f"https://portfolio.demo.example/{profile.id}/{item}",
        )
    return Freelancer(
        actor=await actor_for(session.user),
        name=name,
        skills=skills,
        balance=profile.connects_balance,
    )


async def _make_client(rng: random.Random, session: users.Session, company: str) -> Client:
    await profiles.create_client_profile(
        session.user,
        {
            "company_name": company,
            "description": "We hire freelancers for product, data and design work.",
            "website": f"https://{company.lower().replace(' ', '')}.demo.example",
            "location": rng.choice(CITIES),
        },
    )
    return Client(actor=await actor_for(session.user), company=company)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _job_post(rng: random.Random, client: Client) -> dict[str, Any]:
    category = CATEGORIES[_weighted(rng, CATEGORY_WEIGHTS)]
    skills = _skill_set(rng, category, 1, 4)
    thing = rng.choice(category.things)
    a_thing = f"{'an' if thing[0] in 'aeiou' else 'a'} {thing}"
    title = rng.choice(category.titles).format(skill=skills[0], thing=thing, a_thing=a_thing)
    level = rng.choices(list(ExperienceLevel), weights=[3, 5, 2])[0]
    scale = {
        ExperienceLevel.ENTRY: 0.5,
        ExperienceLevel.INTERMEDIATE: 1.0,
        ExperienceLevel.EXPERT: 2.2,
    }[level]
    task = rng.choice(category.tasks).format(thing=thing)
    sentences = [
        f"{client.company} is looking for a freelancer to {task}.",
        f"You will work mostly with {', '.join(skills)}.",
    ]
    if rng.random() < 0.6:
        sentences.append(
            f"Expected scope: about {rng.randint(1, 16)} weeks, "
            f"{rng.choice(['full-time', 'part-time', 'a few hours a week'])}."
        )
    if rng.random() < 0.4:
        bonus = rng.choice(category.skills)
        if bonus not in skills:
            sentences.append(f"Experience with {bonus} is a plus.")
    sentences.append(rng.choice(DESCRIPTION_CLOSINGS))
    post: dict[str, Any] = {
        "title": title,
        "description": " ".join(sentences),
        "skills": skills,
        "experience_level": level,
    }
    if rng.random() < 0.6:
        low, high = category.budget
        dollars = rng.uniform(low, high) * scale
        post.update(budget_type=BudgetType.FIXED, budget=Decimal(max(25, round(dollars / 25) * 25)))
    else:
        low, high = category.rate
        rate_min = round(rng.uniform(low, high) * scale)
        rate_max = rate_min + rng.choice([5, 10, 15, 20, 30, 45])
        post.update(budget_type=BudgetType.HOURLY, hourly_rate_max=Decimal(rate_max))
        if rng.random() < 0.85:
            post["hourly_rate_min"] = Decimal(rate_min)
    return post


async def _post_jobs(
    rng: random.Random, companies: list[Client], crew: list[Freelancer], count: int, now: datetime
) -> list[PostedJob]:
    # Ages first, so jobs are posted oldest first and `created_at` follows posting order.
    ages = sorted(
        (timedelta(minutes=rng.randint(5, 60 * 24 * 60)) for _ in range(count)), reverse=True
    )
    posted: list[PostedJob] = []
    for age in ages:
        client = rng.choice(companies)
        post = _job_post(rng, client)
        if rng.random() < 0.08:
            post["draft"] = True
        elif rng.random() < 0.15:
            post["visibility"] = JobVisibility.INVITE_ONLY
        if rng.random() < 0.5:
            post["deadline"] = (now + timedelta(days=rng.randint(7, 120))).date()
        job = await jobs.post_job(client.actor, post, today=now.date())
        at = now - age
        await Job.filter(id=job.id).update(
            created_at=at, updated_at=at, published_at=None if post.get("draft") else at
        )
        job.created_at = at
        posted.append(PostedJob(row=job, client=client, skills=post["skills"], posted_at=at))
        if job.visibility == JobVisibility.INVITE_ONLY:
            await _invite(rng, posted[-1], crew)
    return posted


def _candidates(rng: random.Random, job: PostedJob, crew: list[Freelancer]) -> list[Freelancer]:
    """Freelancers sharing a skill with the job first (shuffled), then everyone else."""
    wanted = set(job.skills)
    matching = [person for person in crew if wanted & set(person.skills)]
    others = [person for person in crew if not wanted & set(person.skills)]
    rng.shuffle(matching)
    rng.shuffle(others)
    return matching + others


async def _invite(rng: random.Random, job: PostedJob, crew: list[Freelancer]) -> None:
    for person in _candidates(rng, job, crew)[: rng.randint(1, 3)]:
        invitation, _ = await jobs.invite_freelancer(
            job.client.actor,
            job.row.id,
            person.actor.require_freelancer(),
            f"Hi {person.name.split()[0]}, your {person.skills[0]} work looks like a great fit "
            f"for '{job.row.title}'. Would you send us a proposal?",
        )
        answer = rng.random()
        if answer < 0.6:
            await _bid(rng, job, person)
        elif answer < 0.8:
            await jobs.respond_to_invitation(person.actor, invitation.id, accept=False)


async def _submit_proposals(
    rng: random.Random, posted: list[PostedJob], crew: list[Freelancer], now: datetime
) -> int:
    for job in posted:
        if job.row.status != JobStatus.DRAFT and job.row.visibility == JobVisibility.PUBLIC:
            bidders = rng.choices([0, 1, 2, 3, 4, 6, 9, 14], weights=[6, 10, 14, 16, 14, 10, 6, 3])
            for person in _candidates(rng, job, crew)[: bidders[0]]:
                await _bid(rng, job, person)
    # Spread each proposal between its job's posting and now.
    for job in posted:
        for proposal, _ in job.proposals:
            window = (now - job.posted_at).total_seconds()
            at = job.posted_at + timedelta(seconds=window * rng.random() ** 2)
            await Proposal.filter(id=proposal.id).update(created_at=at, updated_at=at)
    return sum(len(job.proposals) for job in posted)


async def _bid(rng: random.Random, job: PostedJob, person: Freelancer) -> None:
    row = job.row
    invited = row.visibility == JobVisibility.INVITE_ONLY
    cost = 0 if invited else row.connects_required
    allotment = get_settings().monthly_free_connects
    while person.balance < cost:
        async with in_transaction():
            await connects.credit(
                person.actor.require_freelancer(), allotment, ConnectsReason.MONTHLY_ALLOTMENT
            )
        person.balance += allotment
    # Every demo job carries its budget, and every hourly one a maximum rate (_job_post).
    if row.budget_type == BudgetType.FIXED:
        assert row.budget_cents is not None
        bid = Decimal(round(row.budget_cents * rng.uniform(0.7, 1.15) / 100))
    else:
        high = row.hourly_rate_max_cents
        assert high is not None
        low = row.hourly_rate_min_cents or high * 2 // 3
        bid = Decimal(rng.randint(low, high + 500)) / 100
    letter = (
        f"{rng.choice(COVER_OPENINGS)} I'm {person.name}, and I work with "
        f"{', '.join(person.skills[:3])} every day. For '{row.title}' I would start "
        f"with a short call to agree on scope, then deliver in small, reviewable steps."
    )
    proposal, _ = await proposals.submit_proposal(
        person.actor,
        row.id,
        cover_letter=letter,
        bid_amount=max(bid, Decimal(5)),
        estimated_duration_days=rng.choice([None, 3, 7, 14, 21, 30, 45, 60, 90]),
    )
    person.balance -= cost
    job.proposals.append((proposal, person))


async def _move_proposals(rng: random.Random, posted: list[PostedJob]) -> None:
    for job in posted:
        for proposal, person in job.proposals:
            roll = rng.random()
            if roll < 0.15:
                await proposals.shortlist_proposal(job.client.actor, proposal.id)
            elif roll < 0.27:
                await proposals.decline_proposal(
                    job.client.actor, proposal.id, rng.choice(DECLINE_REASONS)
                )
            elif roll < 0.33:
                await proposals.withdraw_proposal(person.actor, proposal.id)


async def _close_some(rng: random.Random, posted: list[PostedJob]) -> int:
    """Close about one published job in eight (older ones more likely) and cancel a few drafts."""
    closed = 0
    for index, job in enumerate(posted):
        oldness = 1 - index / max(1, len(posted))
        if job.row.status == JobStatus.DRAFT:
            if rng.random() < 0.15:
                await jobs.close_job(job.client.actor, job.row.id)
        elif rng.random() < 0.25 * oldness:
            await jobs.close_job(job.client.actor, job.row.id)
            closed += 1
    return closed
