mod x {}
mod watcher;
mod evidence;
mod image_pull;
mod telemetry;
