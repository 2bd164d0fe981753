 use crate::config::{Settings, Mode as RunMode};
use std::collections::HashMap;
use super::db;

fn run(s: Settings) -> RunMode { db::