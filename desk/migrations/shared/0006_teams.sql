-- Product teams tickets are routed to (storage arrays, servers, POS…).
CREATE TABLE teams (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL
);
