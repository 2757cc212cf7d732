"""The data market's Python side: dataset files → canonical rows → an order-independent Merkle commitment."""
