"""One adapter per channel; each raises DeliveryError (retryable or not) when it fails."""
