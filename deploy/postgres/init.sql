-- One database per service and one for the console (DESIGN.md §6); the same names as deploy/postgres/start.sh creates locally.
CREATE DATABASE songda_console;
CREATE DATABASE songda_intake;
CREATE DATABASE songda_delivery;
CREATE DATABASE songda_carrier_gateway;
CREATE DATABASE songda_evidence;
