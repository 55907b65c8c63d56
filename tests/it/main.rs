mod x {}
mod watcher;
mod evidence;
mod telemetry;
