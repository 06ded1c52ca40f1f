public import Storage
import LocalProvider
import S3
import B2

/// The one list of providers. Adding a provider is a new target and one line here.
public enum BuiltInProviders {
    public static let registry = StorageRegistry([
        LocalProvider(),
        S3Provider(),
        B2Provider(),
    ])

    /// Makes ``registry`` the ``StorageRegistry/standard`` one (idempotent).
    public static func install() {
        StorageRegistry.install(registry)
    }
}
