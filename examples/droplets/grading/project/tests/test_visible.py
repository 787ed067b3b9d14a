"""The tests the candidate sees. The held-out tests that grade the task are not here."""

import unittest

from durations import parse_duration


class SingleUnits(unittest.TestCase):
    def test_seconds(self):
        self.assertEqual(parse_duration("90s"), 90)

    def test_minutes(self):
        self.assertEqual(parse_duration("5m"), 300)

    def test_hours(self):
        self.assertEqual(parse_duration("2h"), 7200)

    def test_bare_number_is_seconds(self):
        self.assertEqual(parse_duration("45"), 45)


if __name__ == "__main__":
    unittest.main()
