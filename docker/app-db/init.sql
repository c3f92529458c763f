-- The app database of docker-compose.yml. Run once by the postgres image, when its volume is first
-- initialised (/docker-entrypoint-initdb.d), by psql as the image's superuser (POSTGRES_USER).
--
-- The worker never connects as that superuser: it connects as trustpilot_app, a plain login role
-- that owns the app database (so its migrations can create the `app` schema and its tables) and
-- may do nothing else on the server. The password comes from the container's APP_DB_PASSWORD.
-- Segments are not read here: they are read from the warehouse (WAREHOUSE_DATABASE_URL) by a
-- least-privilege reader role of their own (README, "Security model").

\getenv app_password APP_DB_PASSWORD
\if :{?app_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'APP_DB_PASSWORD is not set: cannot create the app role trustpilot_app'; END $$;
\endif

CREATE ROLE trustpilot_app
  LOGIN PASSWORD :'app_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  CONNECTION LIMIT 50;

CREATE DATABASE trustpilot_invitations OWNER trustpilot_app;

-- Only its owner (and superusers) may connect to it or create temporary tables in it.
REVOKE ALL ON DATABASE trustpilot_invitations FROM PUBLIC;

-- Since PostgreSQL 15 the public schema belongs to pg_database_owner (here trustpilot_app) and
-- PUBLIC may not create in it; say so explicitly for any server this script is pointed at.
\connect trustpilot_invitations
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
