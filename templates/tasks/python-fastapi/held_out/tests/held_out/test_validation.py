import unittest

from app.framework import Client
from app.main import app, store


class ValidationTest(unittest.TestCase):
    def setUp(self) -> None:
        store.clear()
        self.client = Client(app)

    def fields_in(self, response) -> set:  # type: ignore[no-untyped-def]
        self.assertEqual(response.status_code, 422, response.json())
        return {problem["loc"][-1] for problem in response.json()["detail"]}

    def test_valid_item_is_created_with_default_quantity(self) -> None:
        response = self.client.post("/items", {"name": "pen", "price": 1.5})
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json(), {"id": 1, "name": "pen", "price": 1.5, "quantity": 0})

    def test_missing_name_is_rejected(self) -> None:
        self.assertIn("name", self.fields_in(self.client.post("/items", {"price": 2})))

    def test_negative_price_is_rejected(self) -> None:
        response = self.client.post("/items", {"name": "pen", "price": -1})
        self.assertIn("price", self.fields_in(response))

    def test_fractional_quantity_is_rejected(self) -> None:
        response = self.client.post("/items", {"name": "pen", "price": 1, "quantity": 1.5})
        self.assertIn("quantity", self.fields_in(response))

    def test_rejected_items_are_not_stored(self) -> None:
        self.client.post("/items", {"price": -1})
        self.assertEqual(store.count(), 0)


if __name__ == "__main__":
    unittest.main()
