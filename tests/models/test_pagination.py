from datetime import timedelta

import pytest

from models.base import utc_now
from models.pagination import InvalidPageRequest, PageRequest, paginate
from models.users.orm import User

pytestmark = pytest.mark.usefixtures("db")


async def make_users(count: int) -> list[User]:
    start = utc_now()
    # Two users share each timestamp, so the id tie-breaker matters.
    return [
        await User.create(
            email=f"u{i}@example.com",
            display_name=f"U{i}",
            password_hash="x",
            created_at=start + timedelta(seconds=i // 2),
        )
        for i in range(count)
    ]


def keyset_order(users: list[User]) -> list:
    return [u.id for u in sorted(users, key=lambda u: (u.created_at, u.id))]


async def walk_forward(size: int, *, descending: bool = False) -> list:
    seen, after = [], None
    while True:
        page = await paginate(
            User.all(), PageRequest(first=size, after=after), descending=descending
        )
        seen += [row.id for row in page.rows]
        if not page.has_next_page:
            return seen
        after = page.cursors[-1]


async def test_forward_pages_visit_every_row_once_in_order():
    users = await make_users(11)
    assert await walk_forward(3) == keyset_order(users)
    assert await walk_forward(4, descending=True) == list(reversed(keyset_order(users)))


async def test_backward_pages_end_with_the_newest_rows():
    users = await make_users(7)
    order = keyset_order(users)
    page = await paginate(User.all(), PageRequest(last=3))
    assert [row.id for row in page.rows] == order[-3:]
    assert page.has_previous_page and not page.has_next_page
    earlier = await paginate(User.all(), PageRequest(last=3, before=page.cursors[0]))
    assert [row.id for row in earlier.rows] == order[-6:-3]
    assert earlier.has_next_page


async def test_a_cursor_stays_valid_when_rows_are_inserted_before_it():
    users = await make_users(6)
    first_page = await paginate(User.all(), PageRequest(first=3))
    await User.create(
        email="new@example.com",
        display_name="New",
        password_hash="x",
        created_at=users[0].created_at - timedelta(days=1),
    )
    second_page = await paginate(User.all(), PageRequest(first=3, after=first_page.cursors[-1]))
    assert [row.id for row in second_page.rows] == keyset_order(users)[3:6]


@pytest.mark.parametrize(
    "request_",
    [
        PageRequest(first=0),
        PageRequest(first=101),
        PageRequest(last=-1),
        PageRequest(first=2, last=2),
        PageRequest(after="garbage"),
        PageRequest(before="W10"),
    ],
)
async def test_bad_page_requests_are_refused(request_):
    with pytest.raises(InvalidPageRequest):
        await paginate(User.all(), request_)
