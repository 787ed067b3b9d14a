import unittest

from app.framework import Client
from app.main import app, store


class ErrorsTest(unittest.TestCase):
    def setUp(self) -> None:
        store.clear()
        self.client = Client(app)

    def test_unknown_item_is_404_with_detail(self) -> None:
        response = self.client.get("/items/999")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json(), {"detail": "item 999 not found"})

    def test_non_numeric_id_is_422(self) -> None:
        self.assertEqual(self.client.get("/items/abc").status_code, 422)


if __name__ == "__main__":
    unittest.main()
