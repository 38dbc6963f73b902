"""The booking saga pipeline: one saga per booking, partitioned by bookingId."""
