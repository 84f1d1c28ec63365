"""Every .NET custom and standard date/time format specifier against hand-computed strings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage.dotnet_format import DateFormatError, format_datetime, validate_format

PLUS1 = timezone(timedelta(hours=1))
MINUS530 = timezone(-timedelta(hours=5, minutes=30))
# Tuesday 24 March 2026, 14:30:22.123456 at +01:00
T = datetime(2026, 3, 24, 14, 30, 22, 123456, tzinfo=PLUS1)
# Monday 5 January 2009, 03:04:05.000070 at -05:30
E = datetime(2009, 1, 5, 3, 4, 5, 70, tzinfo=MINUS530)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("yyyy", "2026"),
        ("yyy", "2026"),
        ("yy", "26"),
        ("%y", "26"),
        ("yyyyy", "02026"),
        ("MMMM", "March"),
        ("MMM", "Mar"),
        ("MM", "03"),
        ("%M", "3"),
        ("dddd", "Tuesday"),
        ("ddd", "Tue"),
        ("dd", "24"),
        ("%d", "24"),
        ("HH", "14"),
        ("%H", "14"),
        ("hh", "02"),
        ("%h", "2"),
        ("mm", "30"),
        ("%m", "30"),
        ("ss", "22"),
        ("%s", "22"),
        ("%f", "1"),
        ("ff", "12"),
        ("fff", "123"),
        ("ffff", "1234"),
        ("fffff", "12345"),
        ("ffffff", "123456"),
        ("fffffff", "1234560"),
        ("%F", "1"),
        ("FFF", "123"),
        ("FFFFFFF", "123456"),
        ("tt", "PM"),
        ("%t", "P"),
        ("zzz", "+01:00"),
        ("zz", "+01"),
        ("%z", "+1"),
        ("%K", "+01:00"),
        ("gg", "A.D."),
        ("yyyyMMdd_HHmmss", "20260324_143022"),
        ("yyyy-MM-dd HH:mm:ss.fff", "2026-03-24 14:30:22.123"),
        ("MM/dd/yyyy", "03/24/2026"),
        ("yyyy'-'MM", "2026-03"),
        ('"at" HH', "at 14"),
        ("'yyyy' yyyy", "yyyy 2026"),
        ("\\h h", "h 2"),
        ("HH\\hmm", "14h30"),
        ("'It''s'", "Its"),
        ("Qyy", "Q26"),
        ("d MMM yyyy", "24 Mar 2026"),
        ("hh:mm tt", "02:30 PM"),
    ],
)
def test_custom_specifiers(fmt: str, expected: str) -> None:
    assert format_datetime(T, fmt) == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("%y", "9"),
        ("yy", "09"),
        ("yyy", "2009"),
        ("%M", "1"),
        ("%d", "5"),
        ("dddd", "Monday"),
        ("%h", "3"),
        ("tt", "AM"),
        ("%t", "A"),
        ("zzz", "-05:30"),
        ("zz", "-05"),
        ("%z", "-5"),
        ("ffffff", "000070"),
        ("fffff", "00007"),
        ("ffff", "0000"),
        ("HH:mm:ss.FFFF", "03:04:05"),  # all-zero F group renders nothing and drops the '.'
        ("HH:mm:ss.FFFFFF", "03:04:05.00007"),
        ("hh", "03"),
    ],
)
def test_custom_specifiers_other_date(fmt: str, expected: str) -> None:
    assert format_datetime(E, fmt) == expected


def test_twelve_hour_clock_midnight_and_noon() -> None:
    assert format_datetime(datetime(2026, 1, 1, 0, 5, tzinfo=UTC), "h:mm tt") == "12:05 AM"
    assert format_datetime(datetime(2026, 1, 1, 12, 5, tzinfo=UTC), "h:mm tt") == "12:05 PM"


def test_k_is_z_for_utc_values() -> None:
    assert format_datetime(T.astimezone(UTC), "HH:mmK") == "13:30Z"
    assert format_datetime(T.astimezone(UTC), "zzz") == "+00:00"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("d", "03/24/2026"),
        ("D", "Tuesday, 24 March 2026"),
        ("f", "Tuesday, 24 March 2026 14:30"),
        ("F", "Tuesday, 24 March 2026 14:30:22"),
        ("g", "03/24/2026 14:30"),
        ("G", "03/24/2026 14:30:22"),
        ("m", "March 24"),
        ("M", "March 24"),
        ("o", "2026-03-24T14:30:22.1234560+01:00"),
        ("O", "2026-03-24T14:30:22.1234560+01:00"),
        ("r", "Tue, 24 Mar 2026 13:30:22 GMT"),
        ("R", "Tue, 24 Mar 2026 13:30:22 GMT"),
        ("s", "2026-03-24T14:30:22"),
        ("t", "14:30"),
        ("T", "14:30:22"),
        ("u", "2026-03-24 13:30:22Z"),
        ("U", "Tuesday, 24 March 2026 13:30:22"),
        ("y", "2026 March"),
        ("Y", "2026 March"),
    ],
)
def test_standard_formats(fmt: str, expected: str) -> None:
    assert format_datetime(T, fmt) == expected


def test_round_trip_format_of_a_utc_value_ends_in_z() -> None:
    assert format_datetime(T.astimezone(UTC), "o") == "2026-03-24T13:30:22.1234560Z"


@pytest.mark.parametrize("fmt", ["q", "%", "ffffffff", "FFFFFFFF", "'open", "yyyy\\"])
def test_invalid_formats_raise(fmt: str) -> None:
    with pytest.raises(DateFormatError):
        validate_format(fmt)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_datetime(datetime(2026, 1, 1), "yyyy")
