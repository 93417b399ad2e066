"""Ray actors (thin shells) and the plain logic classes they wire."""
