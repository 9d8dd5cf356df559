"""The skill catalog: profiles and jobs name skills from it, so search can match them exactly."""

from __future__ import annotations

import re
from typing import cast

from models.profiles.orm import Skill

SKILL_NAMES = [
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
    "Swift",
    "iOS",
    "Android",
    "Flutter",
    "React Native",
    "PHP",
    "Laravel",
    "Ruby on Rails",
    "C#",
    ".NET",
    "C++",
    "AWS",
    "Google Cloud",
    "Azure",
    "Docker",
    "Kubernetes",
    "Terraform",
    "DevOps",
    "Machine Learning",
    "Data Science",
    "Data Engineering",
    "SQL",
    "Excel",
    "Tableau",
    "UI Design",
    "UX Research",
    "Figma",
    "Graphic Design",
    "Logo Design",
    "Illustration",
    "Video Editing",
    "Animation",
    "3D Modeling",
    "Copywriting",
    "Technical Writing",
    "Content Writing",
    "Translation",
    "SEO",
    "Social Media Marketing",
    "Email Marketing",
    "Bookkeeping",
    "Accounting",
    "Virtual Assistant",
    "Customer Support",
    "Project Management",
    "WordPress",
    "Shopify",
    "Web Scraping",
    "Blockchain",
    "Solidity",
    "Cybersecurity",
    "QA Testing",
    "Test Automation",
    "Voice Over",
]


# Longer slugs name no skill, and Tortoise refuses them even in a WHERE.
SLUG_MAX_LENGTH: int = Skill._meta.fields_map["slug"].max_length  # type: ignore[attr-defined]


def slugify(name: str) -> str:
    slug = name.lower().replace("#", "sharp").replace("+", "plus").replace(".net", "dotnet")
    return re.sub(r"[^a-z0-9]+", "-", slug).strip("-")


async def ensure_skill_catalog() -> int:
    """Insert the catalog's missing skills; safe to run on every deploy. Returns how many were added."""
    # flat=True yields the values themselves; Tortoise types them as tuples (tortoise-orm#1112).
    existing = set(cast(list[str], await Skill.all().values_list("slug", flat=True)))
    missing = [
        Skill(name=name, slug=slugify(name))
        for name in SKILL_NAMES
        if slugify(name) not in existing
    ]
    if missing:
        await Skill.bulk_create(missing, ignore_conflicts=True)
    return len(missing)
