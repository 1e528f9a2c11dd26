"""The score log: every batch-test prediction as one item of the score table (DynamoDB)."""
