import unittest

from app.framework import Client
from app.main import app, store


class PaginationTest(unittest.TestCase):
    def setUp(self) -> None:
        store.clear()
        for n in range(25):
            store.add({"name": f"item-{n + 1}", "price": n, "quantity": 1})
        self.client = Client(app)

    def test_default_page_is_twenty_items(self) -> None:
        body = self.client.get("/items").json()
        self.assertEqual(len(body["items"]), 20)
        self.assertEqual(body["total"], 25)

    def test_limit_and_offset_select_a_page(self) -> None:
        body = self.client.get("/items?limit=5&offset=20").json()
        self.assertEqual([item["id"] for item in body["items"]], [21, 22, 23, 24, 25])

    def test_out_of_range_values_are_rejected(self) -> None:
        for query in ("limit=0", "limit=101", "limit=abc", "offset=-1"):
            with self.subTest(query=query):
                self.assertEqual(self.client.get(f"/items?{query}").status_code, 422)


if __name__ == "__main__":
    unittest.main()
