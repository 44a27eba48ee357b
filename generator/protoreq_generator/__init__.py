"""protoreq_generator: the protoc plugin and the protoreq CLI."""
