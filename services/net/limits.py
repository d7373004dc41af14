"""The limits every call is held to, known to the pages and the API as well as to the client."""

# Through the EAS gateway a request body may not exceed 1 MB (1,048,576 bytes).
GATEWAY_BODY_LIMIT = 1_048_576
