-- One database per organisation's node: table names follow the application class, so nodes never share one.
CREATE DATABASE civica OWNER coordination;
CREATE DATABASE fab OWNER coordination;
CREATE DATABASE odense_brobygning OWNER coordination;
CREATE DATABASE odense_boern_og_unge OWNER coordination;
CREATE DATABASE jobcentre_odense OWNER coordination;
CREATE DATABASE kvinfo_mentornetvaerk OWNER coordination;
