"""The four Songda services; they share only the `shared` package and Kafka."""
