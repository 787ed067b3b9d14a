import re
import unittest
from pathlib import Path

PLAN = Path(__file__).resolve().parents[1] / "deliverable" / "PLAN.md"
HEADINGS = ["Current State", "Proposed Change", "Verification Plan", "Risks"]


class LayoutTest(unittest.TestCase):
    def test_plan_keeps_its_headings(self) -> None:
        found = re.findall(r"^## (.+?)\s*$", PLAN.read_text(), re.M)
        self.assertEqual(found, HEADINGS)


if __name__ == "__main__":
    unittest.main()
