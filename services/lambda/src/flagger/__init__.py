"""The retrain flagger: a Lambda handler for the score table's DynamoDB stream.

It copies misclassified and low-confidence score records into the retrain table. The package is
self-contained (stdlib + boto3, which the Lambda runtime provides) so a zip of this folder deploys
as it is; the handler is ``flagger.handler.lambda_handler``.
"""
