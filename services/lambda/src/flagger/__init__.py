"""The retrain flagger: a Lambda handler for the score table's DynamoDB stream.

It copies misclassified and low-confidence score records into the retrain table. The package needs
only the standard library, boto3 (which the Lambda runtime provides) and the stdlib-only
``iris_common`` (the one time format), which the deployment zip carries beside it
(``infra.provision.package``); the handler is ``flagger.handler.lambda_handler``.
"""
