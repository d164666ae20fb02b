from __future__ import annotations

from dialer.core.search import first_true


def test_first_true_finds_what_a_scan_finds_and_asks_little() -> None:
    for end in range(0, 40):
        for switch in range(0, 45):
            for guess in (0, 1, 3, 17, 60):
                asked: list[int] = []

                def test(n: int, switch: int = switch, asked: list[int] = asked) -> bool:
                    asked.append(n)
                    return n >= switch

                expected = next((n for n in range(end) if n >= switch), end)
                assert first_true(test, end, guess=guess) == expected
                assert all(0 <= n < end for n in asked)  # never past the end
                assert len(asked) <= 2 * max(1, end).bit_length() + 2
