"""Every REPLY and COUNTER of the real-client corpus is read to the right facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mail.reply import read_reply

DATA = Path(__file__).resolve().parent.parent / "data" / "imip"


@dataclass(frozen=True)
class Expected:
    """Values written out by hand from reading each file."""

    path: str
    method: str
    uid: str
    attendee: str | None
    partstat: str | None
    dtstamp: datetime | None
    comment: str | None = None
    sequence: int = 0
    sender: str | None = None


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


CASES = [
    Expected(
        "android/reply-accepted-android-email-base64.eml",
        "REPLY",
        "6C5861338FC94376B376095E9884760B00000000000000000000000000000000",
        "david.phan@blue-mind.net",
        "ACCEPTED",
        utc(2012, 7, 4, 10, 48, 23),
        sender="david.phan@blue-mind.net",
    ),
    Expected(
        "android/reply-declined-android-email-base64.eml",
        "REPLY",
        "6C5861338FC94376B376095E9884760B00000000000000000000000000000000",
        "david.phan@blue-mind.net",
        "DECLINED",
        utc(2012, 7, 4, 10, 52, 54),
        sender="david.phan@blue-mind.net",
    ),
    Expected(
        "apple/reply-accepted-ical5.ics",
        "REPLY",
        "a8d10369e051094ae9322bd65e8afecac010bfc8",
        "mail@corneliusweiss.de",
        "ACCEPTED",
        utc(2011, 11, 30, 15, 7, 38),
        sequence=1,
    ),
    Expected(
        "apple/reply-accepted-ios.eml",
        "REPLY",
        "b84ce20",
        "admin@willow.vmw",
        "ACCEPTED",
        utc(2012, 5, 25, 15, 41, 22),
        comment="Annotation",
        sender="admin@willow.vmw",
    ),
    Expected(
        "apple/reply-declined-ios.eml",
        "REPLY",
        "176dfc05",
        "admin@willow.vmw",
        "DECLINED",
        utc(2012, 5, 27, 18, 43, 57),
        sender="admin@willow.vmw",
    ),
    Expected(
        "apple/reply-tentative-ios.eml",
        "REPLY",
        "5b596379",
        "admin@willow.vmw",
        "TENTATIVE",
        utc(2012, 5, 27, 18, 43, 57),
        sender="admin@willow.vmw",
    ),
    Expected(
        "apple/reply-ical3-method-repeated-no-attendee.ics",
        "REPLY",
        "EC9439B1-FF65-11D6-9973-003065F99D04",
        None,
        None,
        None,
        sequence=5,
    ),
    Expected(
        "apple/reply-tentative-ios-proposed-new-time.ics",
        "REPLY",
        "f22d978b-51cc-419d-b4ae-e85d09279ac4",
        "david@b-m.lan",
        "TENTATIVE",
        utc(2020, 12, 24, 14, 18, 58),
        comment="\u200b🗓\u200b Can we move this event to tomorrow at 09:30?",
    ),
    Expected(
        "bluemind/reply-accepted-bluemind-mapi-multipart-related.eml",
        "REPLY",
        "a0bd6c5b-dc96-49a0-ae45-089843c839df",
        "lucie.takvorian@blue-mind.net",
        "ACCEPTED",
        utc(2019, 2, 28, 9, 45, 33),
        sender="lucie.takvorian@bluemind.net",
    ),
    Expected(
        "bluemind/reply-accepted-bluemind.eml",
        "REPLY",
        "0839ab78569b58f97c8f56d61493ba30dced2013",
        "evelyne.dutouron@ledepartement00.zz",
        "ACCEPTED",
        utc(2016, 4, 25, 12, 25, 30),
        sender="evelyne.dutouron@ledepartement00.zz",
    ),
    Expected(
        "evolution/reply-accepted-with-comment.ics",
        "REPLY",
        "invite",
        "user@no.where",
        "ACCEPTED",
        utc(2017, 3, 8, 18, 19, 58),
        comment="See you there",
        sequence=1,
    ),
    Expected(
        "google/counter-gmail-content-type-says-reply.eml",
        "COUNTER",
        "36da4919-6cf5-4ce9-aa18-6e56c1da2298",
        "max@gmail.com",
        "TENTATIVE",
        utc(2021, 1, 13, 10, 24, 39),
        sender="max@gmail.com",
    ),
    Expected(
        "google/reply-accepted-gmail-qp-latin1-valarm.eml",
        "REPLY",
        "e76b4686c75efde6b17ea24cb98c8d59dca65063",
        "marieg@isynet.org",
        "ACCEPTED",
        utc(2012, 8, 24, 9, 50, 52),
        sequence=1,
        sender="marieg@isynet.org",
    ),
    Expected(
        "google/reply-accepted-gmail.eml",
        "REPLY",
        "14ef516ad2e6ce325d5c8efcf9d7ddbfa30f9d15",
        "tcataldo@gmail.com",
        "ACCEPTED",
        utc(2012, 5, 30, 7, 56, 52),
        sender="tcataldo@gmail.com",
    ),
    Expected(
        "google/reply-declined-gmail.eml",
        "REPLY",
        "14ef516ad2e6ce325d5c8efcf9d7ddbfa30f9d15",
        "tcataldo@gmail.com",
        "DECLINED",
        utc(2012, 5, 30, 7, 57, 9),
        sender="tcataldo@gmail.com",
    ),
    Expected(
        "google/reply-tentative-gmail.eml",
        "REPLY",
        "14ef516ad2e6ce325d5c8efcf9d7ddbfa30f9d15",
        "tcataldo@gmail.com",
        "TENTATIVE",
        utc(2012, 5, 30, 7, 56, 58),
        sender="tcataldo@gmail.com",
    ),
    Expected(
        "google/reply-declined-to-exchange-invite.ics",
        "REPLY",
        "cccc@nylas.com",
        "karim@example.com",
        "DECLINED",
        utc(2015, 3, 31, 12, 43, 44),
    ),
    Expected(
        "google/reply-tentative-to-exchange-invite.ics",
        "REPLY",
        "cccc@nylas.com",
        "test1@example.com",
        "TENTATIVE",
        utc(2015, 3, 31, 13, 14, 19),
    ),
    Expected(
        "outlook-exchange/reply-accepted-outlook2010-empty-comment.eml",
        "REPLY",
        "5baee2a1-9064-4356-9b3c-f56b02050088",
        "rcpt@zimbra.com",
        "ACCEPTED",
        utc(2012, 4, 24, 22, 46, 11),
        sender="rcpt@zimbra.com",
    ),
    Expected(
        "outlook-exchange/reply-declined-exchange-comment-tzone-utc.ics",
        "REPLY",
        "677rac3eb0844s2r35spc0nl8s@example.com",
        "rohan@example.com",
        "DECLINED",
        utc(2022, 10, 11, 13, 47, 42),
        comment="Rebooking to tomorrow at 11:30 AM",
    ),
    Expected(
        "outlook-mac/reply-accepted-outlook-mac-2011.eml",
        "REPLY",
        "f1394aba7ca8b9474af204a4d88934b7c7aa2191",
        "admin@willow.vmw",
        "ACCEPTED",
        utc(2012, 5, 25, 15, 41, 21),
        sender="admin@willow.vmw",
    ),
    Expected(
        "outlook-mac/reply-declined-outlook-mac-2011.eml",
        "REPLY",
        "F3B82EDE-26A7-48AF-B90C-3F99A005964C",
        "tom@willow.vmw",
        "DECLINED",
        utc(2012, 5, 27, 18, 14, 0),
        sender="tom@willow.vmw",
    ),
    Expected(
        "outlook-mac/reply-tentative-outlook-mac-2011.eml",
        "REPLY",
        "F3B82EDE-26A7-48AF-B90C-3F99A005964C",
        "tom@willow.vmw",
        "TENTATIVE",
        utc(2012, 5, 27, 18, 14, 0),
        sender="tom@willow.vmw",
    ),
    Expected(
        "spark/reply-spark-no-attendee.ics",
        "REPLY",
        "040000008200E00074C5B7101A82E0080000000030D6D500267ED701000000000000000010000000"
        "79D60574BF8D6C4B86AB81EB959A2BF6",
        None,
        None,
        utc(2021, 7, 27, 11, 56, 18),
        sequence=2,
    ),
    Expected(
        "thunderbird/reply-accepted-lightning.eml",
        "REPLY",
        "4f0162146d61cb2c06cbe2abf94636f4526abe16",
        "tine20admin@caldav.net",
        "ACCEPTED",
        utc(2011, 11, 21, 12, 9, 9),
        sender="tine20admin@caldav.net",
    ),
    Expected(
        "thunderbird/reply-declined-lightning.eml",
        "REPLY",
        "4f0162146d61cb2c06cbe2abf94636f4526abe16",
        "tine20admin@caldav.net",
        "DECLINED",
        utc(2011, 11, 21, 12, 11, 54),
        sender="tine20admin@caldav.net",
    ),
    Expected(
        "yahoo/reply-accepted-yahoo-to-outlook-invite.ics",
        "REPLY",
        "040000008200E00074C5B7101A82E00800000000C19F61D9768AD80100000000000000001000000"
        "05F28549DA7F085409A1039F92E698B8C",
        "example@yahoo.com",
        "ACCEPTED",
        utc(2022, 6, 27, 22, 40, 8),
    ),
]


def test_every_reply_file_has_a_case() -> None:
    """A new REPLY/COUNTER sample in tests/data/imip must get an expectation here."""
    files = {
        str(p.relative_to(DATA))
        for p in DATA.rglob("*")
        if p.name.startswith(("reply-", "counter-"))
    }
    assert files == {c.path for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.path for c in CASES])
def test_corpus_reply_is_read(case: Expected) -> None:
    result = read_reply((DATA / case.path).read_bytes())
    assert result.problem is None
    assert len(result.items) == 1
    item = result.items[0]
    assert item.method == case.method
    assert item.uid == case.uid
    assert item.sequence == case.sequence
    assert item.dtstamp == case.dtstamp
    assert item.comment == case.comment
    if case.attendee is None:
        assert item.attendees == ()
    else:
        # Only the replier: the Google VALARM's ATTENDEE (the organizer) is not one.
        assert len(item.attendees) == 1
        assert item.attendees[0].address == case.attendee
        assert item.attendees[0].partstat == case.partstat
    assert result.from_address == case.sender


def test_gmail_sender_header_is_kept_apart_from_from() -> None:
    result = read_reply((DATA / "google/reply-accepted-gmail.eml").read_bytes())
    assert result.from_address == "tcataldo@gmail.com"
    assert result.sender_address == "calendar-notification@google.com"
    assert result.message_id == "<00504502c30547588004c13c4b33@google.com>"
    assert result.date is not None
    assert result.date.tzinfo is not None


def test_counter_body_method_wins_over_content_type() -> None:
    result = read_reply((DATA / "google/counter-gmail-content-type-says-reply.eml").read_bytes())
    assert result.content_method == "REPLY"
    assert result.method == "COUNTER"


def test_thunderbird_email_param_is_read() -> None:
    result = read_reply((DATA / "thunderbird/reply-accepted-lightning.eml").read_bytes())
    attendee = result.items[0].attendees[0]
    assert attendee.email == "tine20admin@caldav.net"
    assert attendee.name == "External, Caldav"


def test_requests_are_not_replies_but_are_calendar_data() -> None:
    result = read_reply((DATA / "google/request-gmail-multipart-mixed.eml").read_bytes())
    assert result.problem is None
    assert result.method == "REQUEST"
