//! String enums of the API. Each keeps values it does not know in an
//! `Other(String)` variant instead of failing to decode.

macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the SDK does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )+
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // The text as the decoder holds it: a known value costs
                // no allocation (serde's `Cow<str>` always makes a
                // `String`).
                struct Text;

                impl serde::de::Visitor<'_> for Text {
                    type Value = $name;

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a string")
                    }

                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        Ok($name::from(s))
                    }
                }

                d.deserialize_str(Text)
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// The state of a sandbox (`SandboxState`).
    SandboxState {
        /// Being created.
        Creating = "creating",
        /// Being restored from an archive.
        Restoring = "restoring",
        /// Deleted.
        Destroyed = "destroyed",
        /// Being deleted.
        Destroying = "destroying",
        /// Running.
        Started = "started",
        /// Stopped.
        Stopped = "stopped",
        /// Starting.
        Starting = "starting",
        /// Stopping.
        Stopping = "stopping",
        /// Failed; see `errorReason`.
        Error = "error",
        /// Its image failed to build; see `errorReason`.
        BuildFailed = "build_failed",
        /// Waiting for its image to be built.
        PendingBuild = "pending_build",
        /// Its image is being built.
        BuildingSnapshot = "building_snapshot",
        /// The server does not know the state (a real API value).
        Unknown = "unknown",
        /// Its snapshot is being pulled.
        PullingSnapshot = "pulling_snapshot",
        /// Archived.
        Archived = "archived",
        /// Being archived.
        Archiving = "archiving",
        /// Being resized.
        Resizing = "resizing",
        /// A snapshot of it is being taken.
        Snapshotting = "snapshotting",
        /// Being forked.
        Forking = "forking",
        /// Being paused.
        Pausing = "pausing",
        /// Paused.
        Paused = "paused",
        /// Resuming from pause.
        Resuming = "resuming",
    }
}

impl SandboxState {
    /// `error` or `build_failed`: states a wait must not sit in.
    pub fn is_failure(&self) -> bool {
        matches!(self, SandboxState::Error | SandboxState::BuildFailed)
    }
}

string_enum! {
    /// The state a sandbox is heading to (`SandboxDesiredState`).
    SandboxDesiredState {
        /// Deleted.
        Destroyed = "destroyed",
        /// Running.
        Started = "started",
        /// Stopped.
        Stopped = "stopped",
        /// Resized.
        Resized = "resized",
        /// Archived.
        Archived = "archived",
        /// Paused.
        Paused = "paused",
    }
}

string_enum! {
    /// A GPU model (`GpuType`).
    GpuType {
        /// NVIDIA H100.
        H100 = "H100",
        /// NVIDIA RTX PRO 6000.
        RtxPro6000 = "RTX-PRO-6000",
    }
}

string_enum! {
    /// The kind of machine behind a sandbox (`SandboxClass`).
    SandboxClass {
        /// A Linux virtual machine.
        LinuxVm = "linux-vm",
        /// A container.
        Container = "container",
        /// Android.
        Android = "android",
        /// Windows.
        Windows = "windows",
    }
}

string_enum! {
    /// The state of a sandbox's backup.
    BackupState {
        /// No backup.
        None = "None",
        /// Scheduled.
        Pending = "Pending",
        /// Running.
        InProgress = "InProgress",
        /// Done.
        Completed = "Completed",
        /// Failed.
        Error = "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_kept() {
        let s: SandboxState = serde_json::from_str("\"melting\"").unwrap();
        assert_eq!(s, SandboxState::Other("melting".into()));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"melting\"");
        let s: SandboxState = serde_json::from_str("\"build_failed\"").unwrap();
        assert!(s.is_failure());
        assert_eq!(GpuType::from("RTX-PRO-6000"), GpuType::RtxPro6000);
    }
}
