mod x {}
mod watcher;
mod webhook;
mod gate;
mod bus;
mod host;
mod evidence;
mod image_pull;
mod telemetry;
mod lambda;
