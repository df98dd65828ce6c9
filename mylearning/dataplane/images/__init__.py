"""The course's container images: small programs that behave like the real thing at their interfaces."""
