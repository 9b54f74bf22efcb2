"""Evidence: every event and artefact of a notice, kept so anyone can check it was not altered."""
