import unittest

from app.framework import Client
from app.main import app, store


class SmokeTest(unittest.TestCase):
    def setUp(self) -> None:
        store.clear()
        self.client = Client(app)

    def test_health(self) -> None:
        self.assertEqual(self.client.get("/health").json(), {"status": "ok"})

    def test_created_item_can_be_read_back(self) -> None:
        created = self.client.post("/items", {"name": "pen", "price": 1.5, "quantity": 3})
        self.assertEqual(created.status_code, 201)
        item = self.client.get(f"/items/{created.json()['id']}")
        self.assertEqual(item.json()["name"], "pen")


if __name__ == "__main__":
    unittest.main()
