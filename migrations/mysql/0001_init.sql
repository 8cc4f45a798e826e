-- Standalone (`own` schema mode) tables for MariaDB/MySQL, with DECNET's
-- columns (contracts.md §5; DECNET's Alembic baseline 4a914b1d62a0).
-- Idempotent: existing tables are left untouched. The FK from
-- attackers.identity_id to attacker_identities is dropped (contracts §5.3).
CREATE TABLE IF NOT EXISTS `attackers` (
  `uuid` varchar(255) NOT NULL,
  `ip` varchar(255) NOT NULL,
  `identity_id` varchar(255) DEFAULT NULL,
  `first_seen` datetime NOT NULL,
  `last_seen` datetime NOT NULL,
  `event_count` int(11) NOT NULL DEFAULT 0,
  `service_count` int(11) NOT NULL DEFAULT 0,
  `decky_count` int(11) NOT NULL DEFAULT 0,
  `services` mediumtext NOT NULL,
  `deckies` mediumtext NOT NULL,
  `traversal_path` text DEFAULT NULL,
  `is_traversal` tinyint(1) NOT NULL DEFAULT 0,
  `bounty_count` int(11) NOT NULL DEFAULT 0,
  `credential_count` int(11) NOT NULL DEFAULT 0,
  `fingerprints` mediumtext NOT NULL,
  `commands` mediumtext NOT NULL,
  `rotation_count` int(11) NOT NULL DEFAULT 0,
  `ipv6_leak_count` int(11) NOT NULL DEFAULT 0,
  `updated_at` datetime NOT NULL,
  PRIMARY KEY (`uuid`),
  KEY `ix_attackers_ip` (`ip`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci ROW_FORMAT=DYNAMIC;
CREATE TABLE IF NOT EXISTS `observations` (
  `id` varchar(255) NOT NULL,
  `identity_ref` varchar(255) DEFAULT NULL,
  `primitive` varchar(255) NOT NULL,
  `value` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`value`)),
  `confidence` float NOT NULL,
  `window_start_ts` float NOT NULL,
  `window_end_ts` float NOT NULL,
  `source` varchar(255) NOT NULL,
  `evidence_ref` varchar(255) NOT NULL,
  `envelope_v` int(11) NOT NULL,
  `ts` float NOT NULL,
  `attacker_uuid` varchar(255) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_observations_evidence_primitive` (`evidence_ref`,`primitive`),
  KEY `ix_observations_attacker_primitive_ts` (`attacker_uuid`,`primitive`,`ts`),
  KEY `ix_observations_attacker_uuid` (`attacker_uuid`),
  KEY `ix_observations_primitive` (`primitive`),
  KEY `ix_observations_primitive_ts` (`primitive`,`ts`),
  KEY `ix_observations_ts` (`ts`),
  CONSTRAINT `observations_ibfk_1` FOREIGN KEY (`attacker_uuid`) REFERENCES `attackers` (`uuid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci ROW_FORMAT=DYNAMIC;
CREATE TABLE IF NOT EXISTS `logs` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `timestamp` datetime NOT NULL,
  `decky` varchar(255) NOT NULL,
  `service` varchar(255) NOT NULL,
  `event_type` varchar(255) NOT NULL,
  `attacker_ip` varchar(255) NOT NULL,
  `raw_line` text NOT NULL,
  `fields` text NOT NULL,
  `msg` text DEFAULT NULL,
  `trace_id` varchar(255) DEFAULT NULL,
  `span_id` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_logs_attacker_ip` (`attacker_ip`),
  KEY `ix_logs_decky` (`decky`),
  KEY `ix_logs_event_type` (`event_type`),
  KEY `ix_logs_service` (`service`),
  KEY `ix_logs_timestamp` (`timestamp`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE IF NOT EXISTS `state` (
  `key` varchar(255) NOT NULL,
  `value` mediumtext NOT NULL,
  PRIMARY KEY (`key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
